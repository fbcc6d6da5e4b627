"""The staff console: queues, a page per return and its forms, beside the Temporal UI
(docs/console.md). `python -m console serve` runs it; `python -m console add-user` adds a person."""
