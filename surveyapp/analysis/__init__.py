"""Results for evaluators: summaries from SQL aggregates, charts, PDF reports and exports."""
