SELECT c.country, count(*) AS orders, count(o.amount) AS priced
FROM orders o
JOIN customers c ON c.id = o.customer_id
GROUP BY c.country
ORDER BY c.country;
