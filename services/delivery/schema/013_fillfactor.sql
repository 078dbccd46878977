-- Room on each page of the ledger for a row's next version, so updates of
-- columns no index reads (an email's send marked as started, opens and
-- clicks, a delivery receipt) stay on the page without new index entries
-- (heap-only tuples). Applies to pages written from now on.
ALTER TABLE delivery.messages SET (fillfactor = 80);
