"""backbot: a back-training coach for Telegram, Discord and the terminal."""

__version__ = "0.1.0"
