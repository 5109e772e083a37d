//! What the primary media server saw of each call (全程留痕, R-CONS-7): Janus's event
//! handler reports each side joining, publishing, stopping and leaving the call's room and
//! its media stopping or coming back; each report is a row of `call_media_event`,
//! append-only (the database refuses a change or a deletion).
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "CREATE TABLE call_media_event ( \
     id BIGSERIAL PRIMARY KEY, \
     call_id BIGINT NOT NULL REFERENCES consult_call (id), \
     side VARCHAR(8) NULL CHECK (side IN ('doctor', 'patient')), \
     what VARCHAR(24) NOT NULL, \
     detail VARCHAR(64) NULL, \
     at_ms BIGINT NOT NULL, \
     received_at BIGINT NOT NULL)";

fn up(backend: DbBackend) -> Vec<String> {
    let mut all = Vec::new();
    if backend == DbBackend::Sqlite {
        all.push(TABLE.replace("BIGSERIAL PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT"));
        for what in ["UPDATE", "DELETE"] {
            all.push(format!(
                "CREATE TRIGGER call_media_event_no_{} BEFORE {what} ON call_media_event \
                 BEGIN SELECT RAISE(ABORT, 'call_media_event is append-only'); END",
                what.to_lowercase()
            ));
        }
    } else {
        all.push(TABLE.to_owned());
        // fuzhen_append_only() comes with the consults' migration.
        all.push(
            "CREATE TRIGGER call_media_event_append_only BEFORE UPDATE OR DELETE ON \
             call_media_event FOR EACH ROW EXECUTE FUNCTION fuzhen_append_only()"
                .into(),
        );
    }
    all.push("CREATE INDEX call_media_event_call ON call_media_event (call_id)".into());
    all.push("CREATE INDEX consult_call_room ON consult_call (room)".into());
    all
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for statement in up(db.get_database_backend()) {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS consult_call_room")
            .await?;
        db.execute_unprepared("DROP TABLE IF EXISTS call_media_event")
            .await?;
        Ok(())
    }
}
