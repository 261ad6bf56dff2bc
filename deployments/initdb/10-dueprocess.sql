-- The case database of dueprocess, next to Prefect's own (first start of the container).
CREATE DATABASE dueprocess OWNER prefect;
