"""The usual licence lifecycle rule, for plugins to delegate their deactivate hook to."""

from __future__ import annotations

from core.config.settings import VendorSettings
from core.types import Deactivation, DeactivationAction, Disappearance, LicenceGone


def default_deactivations(licences: list[LicenceGone], settings: VendorSettings) -> list[Deactivation]:
    """Terminated upstream: inactive, whatever the settings. Deleted upstream: inactive when
    ``deactivate_deleted_licences`` is true, else quantity 0 with status and active flag kept."""
    decisions = []
    for licence in licences:
        if licence.reason is Disappearance.TERMINATED or settings.deactivate_deleted_licences:
            action = DeactivationAction.DEACTIVATE
        else:
            action = DeactivationAction.ZERO_QUANTITY
        decisions.append(Deactivation(external_id=licence.external_id, action=action))
    return decisions
