"""Full-text search over stories, roadmap items, interviews, insights and comments."""
