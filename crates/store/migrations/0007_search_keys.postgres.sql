-- PostgreSQL: trigram GIN indexes over the folded keys (infix search, `%rzyb%`).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX records_k_last_trgm ON records USING gin (k_last gin_trgm_ops);
CREATE INDEX records_k_first_trgm ON records USING gin (k_first gin_trgm_ops);
CREATE INDEX records_k_display_trgm ON records USING gin (k_display gin_trgm_ops);
CREATE INDEX records_k_city_trgm ON records USING gin (k_city gin_trgm_ops);
CREATE INDEX records_k_address_trgm ON records USING gin (k_address gin_trgm_ops);
