-- Knowledge base (知识库, issue 22): articles the desk offers, their version history (who
-- changed what, when), the reviewer role `kb`, and the article a directly answered ticket
-- (直接答复) was answered from: a bad review of it reopens the ticket to the article's unit.
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('agent','supervisor','dept','admin','collector','system','qa','kb'));

CREATE SEQUENCE knowledge_article_seq START 50000;

CREATE TABLE knowledge_articles (
    id           text PRIMARY KEY CHECK (id ~ '^KB[0-9]{5,8}$'),
    title        text NOT NULL,
    questions    text[] NOT NULL,
    answer       text NOT NULL,
    full_text    text NOT NULL DEFAULT '',
    unit         text NOT NULL CHECK (unit ~ '^[a-z][a-z0-9_]*$'),
    category     text NOT NULL DEFAULT '',
    districts    text[] NOT NULL DEFAULT '{}',
    source       text NOT NULL DEFAULT '',
    source_date  date,
    valid_from   date,
    valid_until  date,
    review_on    date,
    status       text NOT NULL CHECK (status IN ('draft','under_review','published','expired')),
    version      integer NOT NULL CHECK (version >= 1),
    updated_by   text NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX knowledge_articles_unit ON knowledge_articles (unit, status);

-- every version as it was written: the whole article, who, when, what changed
CREATE TABLE knowledge_versions (
    article_id  text NOT NULL REFERENCES knowledge_articles(id) ON DELETE CASCADE,
    version     integer NOT NULL,
    actor       text NOT NULL,
    at          timestamptz NOT NULL,
    action      text NOT NULL,
    changed     text[] NOT NULL,
    content     jsonb NOT NULL,
    PRIMARY KEY (article_id, version)
);

ALTER TABLE tickets ADD COLUMN kb_article text;   -- answered directly from this article
ALTER TABLE tickets ADD COLUMN kb_unit text;      -- its owning unit: a bad review reopens to it
CREATE INDEX tickets_kb_article ON tickets (kb_article) WHERE kb_article IS NOT NULL;
