"""The platform-agnostic dialogue core: Incoming -> [Reply], no network, no database library."""
