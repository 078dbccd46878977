-- Assignment without a tenant-wide lock (docs/service-desk.md,
-- "Assignment"): round robin is now a rotation by each agent's last
-- assignment (agents.last_assigned_at), kept on the agent's row the
-- assignment locks anyway; the queues' cursor row, which every
-- round-robin creation of a queue wrote and so waited on, goes.
DROP TABLE service_desk.assignment_cursors;
