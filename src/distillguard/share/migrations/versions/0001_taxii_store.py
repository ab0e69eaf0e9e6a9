"""TAXII store: collections, object versions, add-object statuses.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the three tables."""
    op.create_table(
        "collections",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "objects",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
        sa.Column("collection_id", sa.String(36), sa.ForeignKey("collections.id"), nullable=False),
        sa.Column("stix_id", sa.String(200), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("spec_version", sa.String(10), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("date_added", sa.BigInteger, nullable=False),
        sa.Column("tlp_rank", sa.SmallInteger, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.UniqueConstraint("collection_id", "stix_id", "version", name="uq_object_version"),
    )
    op.create_index("ix_objects_collection_added", "objects", ["collection_id", "date_added"])
    op.create_index("ix_objects_collection_id", "objects", ["collection_id", "stix_id"])
    op.create_table(
        "statuses",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("principal", sa.String(100), nullable=False),
        sa.Column("request_timestamp", sa.BigInteger, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_table("statuses")
    op.drop_index("ix_objects_collection_id", "objects")
    op.drop_index("ix_objects_collection_added", "objects")
    op.drop_table("objects")
    op.drop_table("collections")
