-- What the edge saw of a visitor's browser when they last started a conversation, for the
-- inbox's sidebar: a JSON VisitorClient (device class, browser and OS families, first
-- language, country and city). Never the raw user agent or an address.
ALTER TABLE visitors ADD COLUMN client TEXT;
