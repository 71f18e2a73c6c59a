"""Phone campaigns: call lists, the interviewer screen, interviewer mode, supervision."""
