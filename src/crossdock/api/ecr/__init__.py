"""Amazon ECR over AWS JSON 1.1 (``X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Op>``)."""
