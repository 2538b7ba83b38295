"""Index releases: which Chroma collection holds the live index, and the validated map
it was built from.

Switching the active release is one transaction, so readers see either the old index
or the new one, never half of one; the map stored with it keeps the last good map live
when the file on disk breaks.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Text, update
from sqlmodel import Field, Session, SQLModel, col, select

from storage.timestamps import UtcDateTime, utc_now


class IndexRelease(SQLModel, table=True):
    __tablename__ = "index_release"

    id: int | None = Field(default=None, primary_key=True)
    created_at: dt.datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    collection: str = Field(index=True)
    map_name: str
    map_version: str
    map_sha256: str = Field(index=True)
    map_json: str = Field(sa_type=Text)
    embedding_model: str
    unit_count: int
    embedded_count: int
    active: bool = Field(default=False, index=True)


def fetch_active_release(session: Session, collection_prefix: str) -> IndexRelease | None:
    query = (
        select(IndexRelease)
        .where(col(IndexRelease.active).is_(True), col(IndexRelease.collection).startswith(collection_prefix))
        .order_by(col(IndexRelease.id).desc())
    )
    return session.exec(query).first()


def activate_release(session: Session, release: IndexRelease, collection_prefix: str) -> IndexRelease:
    """Store `release` and make it the only active one for its prefix, in one transaction."""
    session.execute(
        update(IndexRelease)
        .where(col(IndexRelease.active).is_(True), col(IndexRelease.collection).startswith(collection_prefix))
        .values(active=False)
    )
    release.active = True
    session.add(release)
    session.flush()
    return release


def list_releases(session: Session, collection_prefix: str) -> list[IndexRelease]:
    query = (
        select(IndexRelease)
        .where(col(IndexRelease.collection).startswith(collection_prefix))
        .order_by(col(IndexRelease.id).desc())
    )
    return list(session.exec(query))


def release_collections(session: Session, collection_prefix: str) -> list[str]:
    """The collection of every release this database made under the prefix, newest first:
    which collections in a shared Chroma belong to this deployment."""
    query = (
        select(IndexRelease.collection)
        .where(col(IndexRelease.collection).startswith(collection_prefix))
        .order_by(col(IndexRelease.id).desc())
    )
    return list(session.exec(query))
