"""The `-s` scripts mitmproxy loads (`launch.ADDON_SCRIPT`, `launch.SANDBOX_SCRIPT`); each builds its addons."""
