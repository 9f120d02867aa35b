# What `numa-gpu report --json` must say, computed independently from the
# same audit records: jq -s -c -f expect.jq FILE... (the records only: no
# damaged lines). One object per job, node, user and the total, with the
# fields the report's rows carry ("key" is the job id, host or user).
def cls: .verdict as $v
  | if ["local", "partial", "remote", "unbound", "refused"] | index([$v]) then $v else "other" end;
# "0-1,3" -> [0,1,3]
def nodelist: [split(",")[] | select(length > 0) | split("-") | map(tonumber)
               | if length == 2 then range(.[0]; .[1] + 1) else .[0] end];
# The sample's pages per node: [{n, c}]
def pages: if (.sample | type) == "object" and (.sample.pages // "") != ""
           then [.sample.pages | split(",")[] | split(":") | {n: (.[0] | tonumber), c: (.[1] | tonumber)}]
           else [] end;
def npages: [pages[].c] | add // 0;
def nlocal: ((.intended.home // "") | nodelist) as $home
            | [pages[] | select(.n as $n | any($home[]; . == $n)) | .c] | add // 0;
def agg: {
  tasks: length,
  local: map(select(cls == "local")) | length,
  partial: map(select(cls == "partial")) | length,
  remote: map(select(cls == "remote")) | length,
  unbound: map(select(cls == "unbound")) | length,
  refused: map(select(cls == "refused")) | length,
  other: map(select(cls == "other")) | length,
  errors: map(select(has("error"))) | length,
  sampled_tasks: map(select(npages > 0)) | length,
  pages: (map(npages) | add // 0),
  local_pages: (map(nlocal) | add // 0),
  worst_local_pct: [.[].local_pct | select(. != null)] | min,
  hugepages_reserved_kb: ([.[].hugepages | select(. != null) | .pages * .pagesize_kb] | add // 0),
  hugepages_released_kb: ([.[].hugepages | select(. != null) | (.released // 0) * .pagesize_kb]
                          | add // 0),
  # IRQs are the step's on a host: once per (job, step, host)
  irqs_steered: (map(select((.irqs_steered // 0) > 0)) | unique_by([.job, .step, .host])
                 | map(.irqs_steered) | add // 0),
  plugin_ms_max: [.[].plugin_ms | select(. != null)] | max,
  first_time: [.[].time | select(. != null)] | min,
  last_time: [.[].time | select(. != null)] | max
};
(group_by(.job)[] | {kind: "job", key: (.[0].job | tostring), user: (map(.user // empty) | first),
                     nodes: (map(.host) | unique | length)} + agg),
(group_by(.host)[] | {kind: "node", key: .[0].host, jobs: (map(.job) | unique | length)} + agg),
(group_by(.user // "")[] | {kind: "user", key: .[0].user, jobs: (map(.job) | unique | length)} + agg),
({kind: "total", key: null, jobs: (map(.job) | unique | length), nodes: (map(.host) | unique | length),
  users: (map(.user // "") | unique | length)} + agg)
