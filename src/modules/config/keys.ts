/** The key the config module provides its `ConfigManager` under (a file of its own, so that reading it loads no module code). */
export const CONFIG_KEY = "config";
