"""The edge: what every input is checked and cleaned against before anything else sees it.

Request bodies, query parameters, path ids, provider payloads and log lines pass through here, so the
rest of the code can trust that a text holds no NUL, an id fits its column and a date is one a person
could mean. Nothing in this package knows a provider or a table.
"""
