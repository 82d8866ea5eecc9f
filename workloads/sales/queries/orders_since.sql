-- Orders of one country since a date: the values come from the workload file's [[parameters]].
SELECT o.order_id, o.amount
FROM orders o
JOIN customers c ON c.id = o.customer_id
WHERE c.country = $country AND o.ordered_on >= $since
ORDER BY o.order_id;
