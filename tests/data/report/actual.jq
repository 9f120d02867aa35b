# The rows of `numa-gpu report --json` in the shape expect.jq computes:
# jq -c -f actual.jq < report.json
select(.kind == "job" or .kind == "node" or .kind == "user" or .kind == "total")
| {kind, key: (if .kind == "job" then (.job | tostring) elif .kind == "total" then null else .[.kind] end)}
  + (if .kind == "job" then {user, nodes} elif .kind == "total" then {jobs, nodes, users} else {jobs} end)
  + {tasks, local, partial, remote, unbound, refused, other, errors, sampled_tasks, pages, local_pages,
     worst_local_pct, hugepages_reserved_kb, hugepages_released_kb, irqs_steered, plugin_ms_max,
     first_time, last_time}
