//! Diagnosis proofs (R-ELIG-2) and their files. A proof changes state once, from
//! `submitted`, by a conditional update; files are stored under server-made keys.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DiagnosisProof {
    Table,
    Id,
    ProofNumber,
    PatientId,
    FamilyMemberId,
    Institution,
    DiagnosedOn,
    Icd10,
    Department,
    Note,
    Status,
    /// The client's key for this upload: a retried upload finds the first one.
    IdempotencyKey,
    DecidedBy,
    DecidedAt,
    ApprovedIcd10,
    ApprovedDepartment,
    RejectReason,
    RejectNote,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ProofFile {
    Table,
    Id,
    ProofId,
    Position,
    Kind,
    ObjectKey,
    ThumbKey,
    Bytes,
    Width,
    Height,
    Sha256,
}

#[derive(DeriveIden)]
enum Patient {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(DiagnosisProof::Table)
                .col(
                    ColumnDef::new(DiagnosisProof::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(DiagnosisProof::ProofNumber)
                        .string_len(24)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(DiagnosisProof::PatientId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(DiagnosisProof::FamilyMemberId)
                        .big_integer()
                        .null(),
                )
                .col(
                    ColumnDef::new(DiagnosisProof::Institution)
                        .string_len(128)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(DiagnosisProof::DiagnosedOn)
                        .string_len(10)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(DiagnosisProof::Icd10)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(DiagnosisProof::Department)
                        .string_len(32)
                        .not_null(),
                )
                .col(ColumnDef::new(DiagnosisProof::Note).text().not_null())
                .col(
                    ColumnDef::new(DiagnosisProof::Status)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(DiagnosisProof::IdempotencyKey)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(DiagnosisProof::DecidedBy)
                        .big_integer()
                        .null(),
                )
                .col(
                    ColumnDef::new(DiagnosisProof::DecidedAt)
                        .big_integer()
                        .null(),
                )
                .col(
                    ColumnDef::new(DiagnosisProof::ApprovedIcd10)
                        .string_len(16)
                        .null(),
                )
                .col(
                    ColumnDef::new(DiagnosisProof::ApprovedDepartment)
                        .string_len(32)
                        .null(),
                )
                .col(
                    ColumnDef::new(DiagnosisProof::RejectReason)
                        .string_len(32)
                        .null(),
                )
                .col(ColumnDef::new(DiagnosisProof::RejectNote).text().null())
                .col(
                    ColumnDef::new(DiagnosisProof::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(DiagnosisProof::Table, DiagnosisProof::PatientId)
                        .to(Patient::Table, Patient::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("diagnosis_proof_idempotency")
                .table(DiagnosisProof::Table)
                .col(DiagnosisProof::PatientId)
                .col(DiagnosisProof::IdempotencyKey)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("diagnosis_proof_queue")
                .table(DiagnosisProof::Table)
                .col(DiagnosisProof::Status)
                .col(DiagnosisProof::CreatedAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ProofFile::Table)
                .col(
                    ColumnDef::new(ProofFile::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(ProofFile::ProofId).big_integer().not_null())
                .col(ColumnDef::new(ProofFile::Position).integer().not_null())
                .col(ColumnDef::new(ProofFile::Kind).string_len(8).not_null())
                .col(
                    ColumnDef::new(ProofFile::ObjectKey)
                        .string_len(128)
                        .not_null(),
                )
                .col(ColumnDef::new(ProofFile::ThumbKey).string_len(128).null())
                .col(ColumnDef::new(ProofFile::Bytes).big_integer().not_null())
                .col(ColumnDef::new(ProofFile::Width).integer().null())
                .col(ColumnDef::new(ProofFile::Height).integer().null())
                .col(ColumnDef::new(ProofFile::Sha256).string_len(64).not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from(ProofFile::Table, ProofFile::ProofId)
                        .to(DiagnosisProof::Table, DiagnosisProof::Id),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ProofFile::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(DiagnosisProof::Table).to_owned())
            .await
    }
}
