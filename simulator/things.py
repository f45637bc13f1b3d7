"""Thing list items (coolkit-cloud.md §6): the full §6.2 `itemData` field set, shares and groups."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .state import Account, App, CloudDevice, Group, Home, Share, Store

_Json = dict[str, Any]


def _person(account: Account, share: Share) -> _Json:
    person: _Json = {"apikey": account.apikey}
    if account.phone:
        person["phoneNumber"] = account.phone
    if account.email:
        person["email"] = account.email
    person.update(
        nickname=account.nickname,
        permit=share.permit,
        comment=share.comment,
        shareTime=share.share_time,
    )
    return person


def device_item(store: Store, device: CloudDevice, viewer: Account) -> _Json:
    """Return `{"itemType", "itemData", "index"}` for a device as `viewer` sees it."""
    factory = device.factory
    share = device.shared_with(viewer) if device.owner is not viewer else None
    if share is not None:
        family: _Json = {
            "familyid": share.familyid,
            "index": share.index,
            "roomid": "",
            "members": [],
        }
        index = share.index
    else:
        family = {
            "familyid": device.familyid,
            "index": device.index,
            "roomid": device.roomid,
            "members": [],
        }
        index = device.index
    data: _Json = {
        "name": device.name,
        "deviceid": device.deviceid,
        "apikey": device.owner.apikey,
        "extra": factory.extra_json(),
        "brandName": factory.brand_name,
        "brandLogo": "",
        "showBrand": True,
        "productModel": factory.product_model,
        "devGroups": [{"type": 1, "groupId": g.id} for g in store.groups_of(device.deviceid)],
        "tags": copy.deepcopy(device.tags),
        "devConfig": copy.deepcopy(device.dev_config),
        "settings": copy.deepcopy(device.settings),
        "family": family,
        "shareTo": []
        if share is not None
        else [
            {**_person(s.account, s), "platform": "", "authority": {"updateTimers": True}}
            for s in device.shares
        ],
        "devicekey": factory.apikey,
        "online": device.online,
        "params": copy.deepcopy(device.params),
        "isSupportGroup": True,
        "isSupportedOnMP": False,
        "isSupportChannelSplit": "switches" in device.params,
        "deviceFeature": {},
        "denyFeatures": [],
    }
    if share is not None:
        data["sharedBy"] = _person(device.owner, share)
    if factory.gsm_id:
        data["gsmInfoData"] = {"gsmId": factory.gsm_id, "validTime": 0, "flowStatus": "normal"}
    return {"itemType": 2 if share is not None else 1, "itemData": data, "index": index}


def group_item(group: Group) -> _Json:
    """Return the itemType-3 entry of a group (no deviceid)."""
    return {
        "itemType": 3,
        "itemData": {
            "id": group.id,
            "name": group.name,
            "mainDeviceId": group.main_device_id,
            "family": {"familyid": group.familyid, "index": group.index, "roomid": ""},
            "params": copy.deepcopy(group.params),
            "uiid": group.uiid,
        },
        "index": group.index,
    }


@dataclass(slots=True)
class Listed:
    """One thing of a home listing, with what the brand filter needs."""

    index: int
    brand: str
    item: _Json


def home_things(store: Store, viewer: Account, home: Home) -> list[Listed]:
    """Return every thing of one home as `viewer` sees it: own devices, shares, groups."""
    out: list[Listed] = []
    for device in store.devices.values():
        if device.owner is viewer and device.familyid == home.id:
            out.append(
                Listed(device.index, device.factory.brand_name, device_item(store, device, viewer))
            )
            continue
        share = device.shared_with(viewer)
        if share is not None and share.familyid == home.id:
            out.append(
                Listed(share.index, device.factory.brand_name, device_item(store, device, viewer))
            )
    out.extend(
        Listed(group.index, "", group_item(group))
        for group in store.groups.values()
        if group.owner is viewer and group.familyid == home.id
    )
    out.sort(key=lambda t: t.index)
    return out


def page(
    things: list[Listed], app: App | None, *, num: int, begin_index: int
) -> tuple[list[_Json], int]:
    """Apply the brand filter and paging; return (items, total).

    `total` counts the things the brand filter hides, so it can exceed what a client can page
    through (coolkit-cloud.md §6.1). `beginIndex` is exclusive [inf].
    """
    total = len(things)
    visible = [t for t in things if app is None or not t.brand or app.brand_allowed(t.brand)]
    after = [t.item for t in visible if t.index > begin_index]
    if num > 0:
        after = after[:num]
    return after, total
