"""Registry model: typed program standards, registers and exclusions; divisions down to villages;
banks with institution codes and adapters; organisations and agency agreements; an append-only
audit of reference changes; persons without accounts, accounts in their own table (one active
account per person, never edited in place), account re-applications, and a PII access log."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0003"
down_revision = "0002"


def _ts(name: str, *, nullable: bool = False) -> sa.Column:
    if nullable:
        return sa.Column(name, sa.DateTime(timezone=True), nullable=True)
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def _text_array(name: str) -> sa.Column:
    return sa.Column(name, ARRAY(sa.Text), nullable=False, server_default="{}")


def _append_only(table: str) -> None:
    op.execute(
        f"""
        CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{table} is append-only'; END $$;
        CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION {table}_append_only();
        """
    )


REGISTERS = "ARRAY['disabled','state_support','poverty','deceased','state_salaried']::text[]"


def upgrade() -> None:
    # ---------------------------------------------------------------- programs
    op.add_column("programs", sa.Column("standard", JSONB, nullable=True))
    op.add_column("programs", _text_array("requires_registers"))
    op.add_column("programs", _text_array("excludes_registers"))
    op.add_column("programs", _text_array("exclusive_with"))
    op.execute(
        "UPDATE programs SET standard = jsonb_build_object('kind', 'fixed', 'amount_fen', standard_fen)"
        " WHERE standard_fen IS NOT NULL AND standard_fen > 0"
    )
    op.drop_column("programs", "standard_fen")
    op.create_check_constraint(
        "programs_standard_kind",
        "programs",
        "standard IS NULL OR standard->>'kind' IN ('fixed','per_unit','tiered')",
    )
    op.create_check_constraint(
        "programs_requires_registers", "programs", f"requires_registers <@ {REGISTERS}"
    )
    op.create_check_constraint(
        "programs_excludes_registers", "programs", f"excludes_registers <@ {REGISTERS}"
    )
    op.create_check_constraint(
        "programs_registers_disjoint", "programs", "NOT (requires_registers && excludes_registers)"
    )

    # ---------------------------------------------------------------- divisions
    op.execute(
        "UPDATE divisions SET parent_code = NULL WHERE parent_code NOT IN (SELECT code FROM divisions)"
    )
    op.create_check_constraint("divisions_kind", "divisions", "kind IN ('区县','街道','镇','乡','社区','村')")
    op.create_foreign_key(
        "divisions_parent",
        "divisions",
        "divisions",
        ["parent_code"],
        ["code"],
        deferrable=True,
        initially="DEFERRED",
    )
    op.create_index("divisions_parent_code", "divisions", ["parent_code"])

    # ---------------------------------------------------------------- banks
    op.add_column("banks", sa.Column("institution_code", sa.Text, nullable=True))
    op.execute("UPDATE banks SET adapter = replace(adapter, '-', '_')")
    op.execute(
        "UPDATE banks SET adapter = 'json_api' WHERE adapter NOT IN ('json_api','batch_file','iso20022')"
    )
    op.create_check_constraint("banks_adapter", "banks", "adapter IN ('json_api','batch_file','iso20022')")
    op.create_index("banks_institution_code", "banks", ["institution_code"], unique=True)

    # ---------------------------------------------------------------- organisations, agreements
    op.create_table(
        "organisations",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("division_code", sa.Text, sa.ForeignKey("divisions.code"), nullable=True),
        sa.Column("bank_code", sa.Text, sa.ForeignKey("banks.code"), nullable=True),
        _ts("updated_at"),
        sa.CheckConstraint(
            "kind IN ('department','town','finance','bank','supervisor')", name="organisations_kind"
        ),
        sa.CheckConstraint(
            "(kind = 'town') = (division_code IS NOT NULL)", name="organisations_town_division"
        ),
        sa.CheckConstraint("(kind = 'bank') = (bank_code IS NOT NULL)", name="organisations_bank_code"),
    )
    op.create_index(
        "organisations_one_per_division",
        "organisations",
        ["division_code"],
        unique=True,
        postgresql_where=sa.text("division_code IS NOT NULL"),
    )
    op.create_table(
        "agency_agreements",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("unit_code", sa.Text, sa.ForeignKey("organisations.code"), nullable=False),
        sa.Column("bank_code", sa.Text, sa.ForeignKey("banks.code"), nullable=False),
        sa.Column("agreement_no", sa.Text, nullable=False, unique=True),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="active"),
        sa.Column("ended_on", sa.Date, nullable=True),
        sa.Column("created_by", sa.Text, nullable=False),
        _ts("created_at"),
        sa.CheckConstraint("status IN ('active','ended')", name="agency_agreements_status"),
        sa.CheckConstraint("(status = 'ended') = (ended_on IS NOT NULL)", name="agency_agreements_ended"),
    )
    # a paying unit works with one agent bank at a time (§五.三)
    op.create_index(
        "agency_agreements_one_active",
        "agency_agreements",
        ["unit_code"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )

    # ---------------------------------------------------------------- audit of reference changes
    op.create_table(
        "reference_changes",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("org_code", sa.Text, nullable=False),
        sa.Column("entity", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("old", JSONB, nullable=True),
        sa.Column("new", JSONB, nullable=True),
    )
    op.create_index("reference_changes_entity_key", "reference_changes", ["entity", "key", "id"])
    _append_only("reference_changes")

    # ---------------------------------------------------------------- persons and accounts
    op.add_column("persons", sa.Column("household_no", sa.Text, nullable=True))
    op.add_column(
        "persons", sa.Column("village_code", sa.Text, sa.ForeignKey("divisions.code"), nullable=True)
    )
    op.add_column("persons", sa.Column("status", sa.Text, nullable=False, server_default="active"))
    op.add_column("persons", sa.Column("status_reason", sa.Text, nullable=True))
    op.add_column("persons", sa.Column("created_by", sa.Text, nullable=True))
    op.create_check_constraint("persons_status", "persons", "status IN ('active','inactive','deceased')")
    op.create_check_constraint("persons_gender", "persons", "gender IN ('M','F')")

    op.create_table(
        "accounts",
        sa.Column("account_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("person_key", sa.Text, sa.ForeignKey("persons.person_key"), nullable=False),
        sa.Column("carrier", sa.Text, nullable=False),
        sa.Column("bank_code", sa.Text, sa.ForeignKey("banks.code"), nullable=False),
        sa.Column("account_no_enc", sa.LargeBinary, nullable=False),
        sa.Column("account_key", sa.Text, nullable=False),
        sa.Column("account_tail", sa.Text, nullable=False),
        sa.Column("holder_name", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="active"),
        _ts("opened_at"),
        _ts("closed_at", nullable=True),
        sa.Column("opened_by", sa.Text, nullable=True),
        sa.Column("change_id", sa.Text, nullable=True),
        sa.CheckConstraint(
            "carrier IN ('social_security_card','bank_card','passbook')", name="accounts_carrier"
        ),
        sa.CheckConstraint("status IN ('active','closed')", name="accounts_status"),
        sa.CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="accounts_closed_at"),
    )
    # 一人一卡: one active account per person, and an account number belongs to one person
    op.create_index(
        "accounts_one_active_per_person",
        "accounts",
        ["person_key"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_index(
        "accounts_active_number",
        "accounts",
        ["account_key"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_index("accounts_person", "accounts", ["person_key", "account_id"])
    # an account is never edited: its number, bank, holder and owner stay as opened; it can only
    # be closed (once), and a change of account is a new row made by an approved re-application
    op.execute(
        """
        CREATE FUNCTION accounts_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'accounts are never deleted (close them instead)';
          END IF;
          IF NEW.person_key IS DISTINCT FROM OLD.person_key
             OR NEW.account_no_enc IS DISTINCT FROM OLD.account_no_enc
             OR NEW.account_key IS DISTINCT FROM OLD.account_key
             OR NEW.account_tail IS DISTINCT FROM OLD.account_tail
             OR NEW.bank_code IS DISTINCT FROM OLD.bank_code
             OR NEW.carrier IS DISTINCT FROM OLD.carrier
             OR NEW.holder_name IS DISTINCT FROM OLD.holder_name
             OR NEW.opened_at IS DISTINCT FROM OLD.opened_at
             OR NEW.change_id IS DISTINCT FROM OLD.change_id THEN
            RAISE EXCEPTION 'account % is immutable: change it through an account change (账户变更申请)', OLD.account_id;
          END IF;
          IF OLD.status = 'closed' THEN
            RAISE EXCEPTION 'account % is closed and stays closed', OLD.account_id;
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER accounts_no_edit BEFORE UPDATE OR DELETE ON accounts
        FOR EACH ROW EXECUTE FUNCTION accounts_immutable();
        """
    )
    # the accounts registered so far move out of persons (same ciphertext; the number's blind
    # index cannot be computed in SQL, so these rows get a placeholder key made from the person
    # key until they are re-registered: they stay unique and never match a real number)
    op.execute(
        """
        INSERT INTO accounts (person_key, carrier, bank_code, account_no_enc, account_key,
                              account_tail, holder_name, status, opened_at, opened_by)
        SELECT person_key, 'bank_card', bank_code, account_no_enc, 'migrated:' || person_key,
               account_tail, name, 'active', created_at, 'migration-0002'
        FROM persons
        """
    )
    op.drop_column("persons", "bank_code")
    op.drop_column("persons", "account_no_enc")
    op.drop_column("persons", "account_tail")

    op.create_table(
        "account_changes",
        sa.Column("change_id", sa.Text, primary_key=True),
        sa.Column("person_key", sa.Text, sa.ForeignKey("persons.person_key"), nullable=False),
        sa.Column("town_code", sa.Text, nullable=False),
        sa.Column("old_account_id", sa.BigInteger, sa.ForeignKey("accounts.account_id"), nullable=True),
        sa.Column("carrier", sa.Text, nullable=False),
        sa.Column("bank_code", sa.Text, sa.ForeignKey("banks.code"), nullable=False),
        sa.Column("account_no_enc", sa.LargeBinary, nullable=False),
        sa.Column("account_key", sa.Text, nullable=False),
        sa.Column("account_tail", sa.Text, nullable=False),
        sa.Column("holder_name", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        _ts("requested_at"),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("decided_by", sa.Text, nullable=True),
        _ts("decided_at", nullable=True),
        sa.Column("decision_note", sa.Text, nullable=True),
        sa.Column("new_account_id", sa.BigInteger, sa.ForeignKey("accounts.account_id"), nullable=True),
        sa.CheckConstraint("status IN ('pending','approved','rejected')", name="account_changes_status"),
        sa.CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name="account_changes_decided"),
        sa.CheckConstraint(
            "(status = 'approved') = (new_account_id IS NOT NULL)", name="account_changes_new_account"
        ),
        # four eyes: the operator who records a re-application does not approve it
        sa.CheckConstraint(
            "decided_by IS NULL OR decided_by <> requested_by", name="account_changes_four_eyes"
        ),
    )
    op.create_index(
        "account_changes_one_pending",
        "account_changes",
        ["person_key"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("account_changes_town_status", "account_changes", ["town_code", "status"])
    op.create_foreign_key("accounts_change", "accounts", "account_changes", ["change_id"], ["change_id"])

    # who saw a person's full ID, account and phone, when and why (never the values themselves)
    op.create_table(
        "pii_access_log",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("org_code", sa.Text, nullable=False),
        sa.Column("person_key", sa.Text, nullable=False),
        sa.Column("fields", ARRAY(sa.Text), nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
    )
    op.create_index("pii_access_log_person", "pii_access_log", ["person_key", "id"])
    _append_only("pii_access_log")


def downgrade() -> None:
    op.drop_table("pii_access_log")
    op.execute("DROP FUNCTION pii_access_log_append_only()")
    op.drop_constraint("accounts_change", "accounts", type_="foreignkey")
    op.drop_table("account_changes")
    op.add_column("persons", sa.Column("bank_code", sa.Text, nullable=True))
    op.add_column("persons", sa.Column("account_no_enc", sa.LargeBinary, nullable=True))
    op.add_column("persons", sa.Column("account_tail", sa.Text, nullable=True))
    op.execute(
        """
        UPDATE persons p SET bank_code = a.bank_code, account_no_enc = a.account_no_enc,
               account_tail = a.account_tail
        FROM accounts a WHERE a.person_key = p.person_key AND a.status = 'active'
        """
    )
    op.execute("DELETE FROM persons WHERE account_no_enc IS NULL")
    for col in ("bank_code", "account_no_enc", "account_tail"):
        op.alter_column("persons", col, nullable=False)
    op.drop_table("accounts")
    op.execute("DROP FUNCTION accounts_immutable()")
    for c in ("persons_status", "persons_gender"):
        op.drop_constraint(c, "persons", type_="check")
    for col in ("household_no", "village_code", "status", "status_reason", "created_by"):
        op.drop_column("persons", col)
    op.drop_table("reference_changes")
    op.execute("DROP FUNCTION reference_changes_append_only()")
    op.drop_table("agency_agreements")
    op.drop_table("organisations")
    op.drop_index("banks_institution_code", "banks")
    op.drop_constraint("banks_adapter", "banks", type_="check")
    op.drop_column("banks", "institution_code")
    op.drop_index("divisions_parent_code", "divisions")
    op.drop_constraint("divisions_parent", "divisions", type_="foreignkey")
    op.drop_constraint("divisions_kind", "divisions", type_="check")
    op.add_column("programs", sa.Column("standard_fen", sa.BigInteger, nullable=True))
    op.execute(
        "UPDATE programs SET standard_fen = (standard->>'amount_fen')::bigint WHERE standard->>'kind' = 'fixed'"
    )
    for c in (
        "programs_standard_kind",
        "programs_requires_registers",
        "programs_excludes_registers",
        "programs_registers_disjoint",
    ):
        op.drop_constraint(c, "programs", type_="check")
    for col in ("standard", "requires_registers", "excludes_registers", "exclusive_with"):
        op.drop_column("programs", col)
