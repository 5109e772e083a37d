//! Patients, their consents, SMS codes and server-side sessions.
//! Times are unix seconds (i64): one comparable representation on every database.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Patient {
    Table,
    Id,
    PatientNumber,
    Phone,
    PasswordHash,
    RealName,
    IdNumberCipher,
    IdNumberHmac,
    IdNumberMasked,
    BirthDate,
    Sex,
    FailedLogins,
    LockedUntil,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ConsentRecord {
    Table,
    Id,
    PatientId,
    Document,
    Version,
    Action,
    At,
    Ip,
}

#[derive(DeriveIden)]
enum SmsCode {
    Table,
    Id,
    Phone,
    Purpose,
    CodeHmac,
    Ip,
    CreatedAt,
    Attempts,
    ConsumedAt,
}

#[derive(DeriveIden)]
enum Session {
    Table,
    Id,
    PatientId,
    Data,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Patient::Table)
                .col(ColumnDef::new(Patient::Id).big_integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(Patient::PatientNumber).string_len(16).not_null().unique_key())
                .col(ColumnDef::new(Patient::Phone).string_len(11).not_null().unique_key())
                .col(ColumnDef::new(Patient::PasswordHash).string().not_null())
                .col(ColumnDef::new(Patient::RealName).string_len(64).not_null())
                .col(ColumnDef::new(Patient::IdNumberCipher).string().not_null())
                .col(ColumnDef::new(Patient::IdNumberHmac).string_len(64).not_null().unique_key())
                .col(ColumnDef::new(Patient::IdNumberMasked).string_len(18).not_null())
                .col(ColumnDef::new(Patient::BirthDate).string_len(10).not_null())
                .col(ColumnDef::new(Patient::Sex).string_len(8).not_null())
                .col(ColumnDef::new(Patient::FailedLogins).integer().not_null().default(0))
                .col(ColumnDef::new(Patient::LockedUntil).big_integer().null())
                .col(ColumnDef::new(Patient::CreatedAt).big_integer().not_null())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ConsentRecord::Table)
                .col(ColumnDef::new(ConsentRecord::Id).big_integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(ConsentRecord::PatientId).big_integer().not_null())
                .col(ColumnDef::new(ConsentRecord::Document).string_len(32).not_null())
                .col(ColumnDef::new(ConsentRecord::Version).string_len(64).not_null())
                .col(ColumnDef::new(ConsentRecord::Action).string_len(16).not_null())
                .col(ColumnDef::new(ConsentRecord::At).big_integer().not_null())
                .col(ColumnDef::new(ConsentRecord::Ip).string_len(64).not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from(ConsentRecord::Table, ConsentRecord::PatientId)
                        .to(Patient::Table, Patient::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("idx_consent_patient").table(ConsentRecord::Table).col(ConsentRecord::PatientId).to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SmsCode::Table)
                .col(ColumnDef::new(SmsCode::Id).big_integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(SmsCode::Phone).string_len(11).not_null())
                .col(ColumnDef::new(SmsCode::Purpose).string_len(16).not_null())
                .col(ColumnDef::new(SmsCode::CodeHmac).string_len(64).not_null())
                .col(ColumnDef::new(SmsCode::Ip).string_len(64).not_null())
                .col(ColumnDef::new(SmsCode::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(SmsCode::Attempts).integer().not_null().default(0))
                .col(ColumnDef::new(SmsCode::ConsumedAt).big_integer().null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("idx_sms_phone_created").table(SmsCode::Table).col(SmsCode::Phone).col(SmsCode::CreatedAt).to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("idx_sms_ip_created").table(SmsCode::Table).col(SmsCode::Ip).col(SmsCode::CreatedAt).to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Session::Table)
                .col(ColumnDef::new(Session::Id).string_len(64).not_null().primary_key())
                .col(ColumnDef::new(Session::PatientId).big_integer().null())
                .col(ColumnDef::new(Session::Data).text().not_null())
                .col(ColumnDef::new(Session::ExpiresAt).big_integer().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("idx_session_patient").table(Session::Table).col(Session::PatientId).to_owned())
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [Session::Table.into_iden(), SmsCode::Table.into_iden(), ConsentRecord::Table.into_iden(), Patient::Table.into_iden()] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
