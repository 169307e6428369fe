"""What the service decides, knowing nothing of HTTP: videos, the role policy, accounts,
invitations, usage, audit and reports. Refusals are raised as `service.domain.errors`."""
