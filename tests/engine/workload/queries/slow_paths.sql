-- Acme's own format: a log read through its table provider factory (the location is relative to
-- the folder dfpolicy runs in).
CREATE EXTERNAL TABLE logs STORED AS ACMELOG LOCATION 'data/app.acmelog';
SELECT json_get_str(payload, 'path') AS path, max(json_get_int(payload, 'ms')) AS slowest
FROM logs
WHERE level <> 'INFO'
GROUP BY json_get_str(payload, 'path')
ORDER BY slowest DESC
