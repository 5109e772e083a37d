//! The risk notice and informed consent confirmed before each consult (R-REG-6): for
//! whom, for which diagnosis and approved proof, which version of the notice, when and
//! from where. A record of a fact: the database refuses to change one.
use crate::m20261124_000002_audit_log::backend_sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConsultConsent {
    Table,
    Id,
    ConsentNumber,
    PatientId,
    FamilyMemberId,
    ProofId,
    Icd10,
    Department,
    NoticeVersion,
    /// The screen's answer to "critical condition" (allowed under the national rule).
    Critical,
    AcceptedAt,
    Ip,
}

#[derive(DeriveIden)]
enum Patient {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum DiagnosisProof {
    Table,
    Id,
}

const SQLITE_TRIGGERS: &[&str] = &[
    "CREATE TRIGGER consult_consent_no_update BEFORE UPDATE ON consult_consent \
     BEGIN SELECT RAISE(ABORT, 'consult_consent records cannot change'); END",
];

const POSTGRES_TRIGGERS: &[&str] = &[
    "CREATE FUNCTION consult_consent_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN RAISE EXCEPTION 'consult_consent records cannot change' USING ERRCODE = 'insufficient_privilege'; END $$",
    "CREATE TRIGGER consult_consent_no_update BEFORE UPDATE ON consult_consent \
     FOR EACH ROW EXECUTE FUNCTION consult_consent_refuse_change()",
];

const SQLITE_DROP: &[&str] = &["DROP TRIGGER IF EXISTS consult_consent_no_update"];

const POSTGRES_DROP: &[&str] = &[
    "DROP TRIGGER IF EXISTS consult_consent_no_update ON consult_consent",
    "DROP FUNCTION IF EXISTS consult_consent_refuse_change()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let triggers = backend_sql(m.get_database_backend(), SQLITE_TRIGGERS, POSTGRES_TRIGGERS)?;
        m.create_table(
            Table::create()
                .table(ConsultConsent::Table)
                .col(
                    ColumnDef::new(ConsultConsent::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(ConsultConsent::ConsentNumber)
                        .string_len(32)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(ConsultConsent::PatientId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ConsultConsent::FamilyMemberId)
                        .big_integer()
                        .null(),
                )
                .col(
                    ColumnDef::new(ConsultConsent::ProofId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ConsultConsent::Icd10)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ConsultConsent::Department)
                        .string_len(32)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ConsultConsent::NoticeVersion)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ConsultConsent::Critical)
                        .boolean()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ConsultConsent::AcceptedAt)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(ConsultConsent::Ip).string_len(64).not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from(ConsultConsent::Table, ConsultConsent::PatientId)
                        .to(Patient::Table, Patient::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ConsultConsent::Table, ConsultConsent::ProofId)
                        .to(DiagnosisProof::Table, DiagnosisProof::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("consult_consent_patient")
                .table(ConsultConsent::Table)
                .col(ConsultConsent::PatientId)
                .col(ConsultConsent::AcceptedAt)
                .to_owned(),
        )
        .await?;
        for sql in triggers {
            m.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let drops = backend_sql(m.get_database_backend(), SQLITE_DROP, POSTGRES_DROP)?;
        for sql in drops {
            m.get_connection().execute_unprepared(sql).await?;
        }
        m.drop_table(Table::drop().table(ConsultConsent::Table).to_owned())
            .await
    }
}
