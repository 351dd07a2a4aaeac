# Claims of notebooks/08-days-retention-and-peaks.ipynb, checked in its kernel after its last cell.
assert week.summary["conservation_ok"] and week.resolved_scenario["run"]["engine"] == "flow"
for _b, _level in disk_last_day.items():
    assert abs(_level - plateau_expected_GB) < 0.03 * plateau_expected_GB, \
        f"{_b}: after a day the disks hold a day of traffic x RF / brokers"
_days = [ts.loc[(ts.index > d * 86400) & (ts.index <= (d + 1) * 86400), "b0.disk_used_GB"].mean() for d in (1, 2)]
assert abs(_days[1] - _days[0]) < 0.01 * _days[0], "from the second day on the level stays where it is"
assert ts.loc[ts.index < 0.5 * 86400, "b0.disk_used_GB"].max() < 0.6 * plateau_expected_GB, \
    "during the first day the disks are still filling"
_night = (hour_of_day >= 2) & (hour_of_day <= 6)
assert ts.loc[_night, "lag.analytics"].max() < 1_000, "at night the group keeps up: nothing but what is on its way"
assert 14 < lag_peak_hour < 22, "the lag peaks after the production's 14:00 peak, when production falls back"
assert ts["lag.analytics"].max() > 1e7, "at the peak the group falls far behind"
assert disk_read[ts["lag.analytics"] < 1e6].max() == 0, "a group that keeps up reads from the page cache"
assert disk_read.max() > 0.9 * ts["consume_MB_per_s.analytics"].max(), \
    "a group far behind reads what it processes from disk"
assert members_of[8] == [1, 1, 1, 1, 2, 2, 2, 2] and members_of[12] == [1] * 12
_p99 = {label: run.latency.loc["end_to_end", "p99"] for label, run in by_members.items()}
assert _p99["6 members"] > 600 and _p99["8 members"] > 600, \
    "members with two partitions fall behind at the peak whether the group has six or eight"
assert _p99["12 members"] < 1 and by_members["12 members"].summary["max_lag.analytics"] < 1_000, \
    "with one partition each the peak fits"
