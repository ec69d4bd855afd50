"""pytest plugin for client projects (fixtures come with the plugin work)."""
