-- The slowest paths of Acme's log, a table of its own format.
SELECT json_get_str(payload, 'path') AS path, max(json_get_int(payload, 'ms')) AS slowest
FROM logs
WHERE level <> 'INFO'
GROUP BY json_get_str(payload, 'path')
ORDER BY slowest DESC
