"""Survey definitions (data files) and the engine that walks a respondent through one."""
