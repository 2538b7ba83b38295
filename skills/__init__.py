"""Skills: what the bot can do, each returning a plain result object."""
