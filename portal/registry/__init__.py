"""Registry of collectivités: communes, EPCI, CCAS, caisses des écoles, syndicats, département, région."""
