-- datafusion-functions-json: the country out of each event's JSON attributes.
SELECT json_get_str(attributes, 'country') AS country, count(*) AS events
FROM events
GROUP BY json_get_str(attributes, 'country')
ORDER BY events DESC, country
