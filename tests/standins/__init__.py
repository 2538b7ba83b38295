"""Local HTTP stand-ins for the outside services the bot talks to."""
