"""Score sheets (评分表): opening, scoring, review (submit, return, review, lock), history, findings."""
