-- Acme's own function next to a JSON one.
SELECT mask_pii(user_email) AS who, json_get_int(attributes, 'amount') AS amount
FROM events
ORDER BY amount DESC
