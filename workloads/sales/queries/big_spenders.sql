-- Customers by revenue from large orders. The view is prepared in the session first; the last
-- statement is the query that dfpolicy plans.
CREATE VIEW large_orders AS
SELECT customer_id, amount FROM orders WHERE amount >= 100;

SELECT c.name, sum(o.amount) AS revenue
FROM customers c
JOIN large_orders o ON o.customer_id = c.id
GROUP BY c.name
ORDER BY revenue DESC;
