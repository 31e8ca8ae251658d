SELECT 1;
SHOW search_path;
