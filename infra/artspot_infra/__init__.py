"""ArtSpot's AWS infrastructure as a CDK app: one configuration, a staging and a production stage."""
