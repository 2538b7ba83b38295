"""A HubSpot-compatible sandbox: a synthetic portal served over HubSpot's own HTTP API."""
