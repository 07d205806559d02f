"""The kernel: the unit of work, the services' types, channel-neutral messages, the notifier port
and the outbox. It sits below routing and the conversation and imports nothing above it."""
