"""Discussion loaders: Slack, Discord, Zulip, mailing lists, Discourse, Stack Exchange, JSONL."""
