"""ArtSpot on AWS as a CDK app: one configuration, a staging and a production stage."""
