"""Open data: the public list of the bodies affiliated to the CDG."""
