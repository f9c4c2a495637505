<?xml version="1.0" encoding="utf-8"?>
<!-- Bantin's RSS 2.0 and Atom 1.0 feeds, shown as a page when opened in a browser.

     The feeds name this file in an xml-stylesheet instruction; feed readers ignore it and
     read the same bytes. Titles and summaries are written as text, never as markup. The
     page is Vietnamese like the feeds (their <language> is vi). Decision 33. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="utf-8" indent="yes" doctype-system="about:legacy-compat"/>

  <xsl:template match="/">
    <xsl:variable name="title" select="rss/channel/title | atom:feed/atom:title"/>
    <xsl:variable name="self" select="(rss/channel/atom:link[@rel='self'] | atom:feed/atom:link[@rel='self'])/@href"/>
    <xsl:variable name="home" select="rss/channel/link | atom:feed/atom:link[not(@rel) or @rel='alternate']/@href"/>
    <html lang="vi">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="robots" content="noindex"/>
        <title><xsl:value-of select="$title"/> (nguồn tin)</title>
        <link rel="stylesheet" href="/static/feed.css"/>
      </head>
      <body class="feed-page">
        <header class="feed-page__about">
          <p class="feed-page__eyebrow">Nguồn tin</p>
          <h1><xsl:value-of select="$title"/></h1>
          <p>Đây là nguồn tin: dán địa chỉ của trang này vào ứng dụng đọc tin để nhận bài mới.
             <a href="/theo-doi">Xem mọi cách theo dõi</a>.</p>
          <p class="feed-page__address"><code><xsl:value-of select="$self"/></code></p>
          <p><a href="{$home}">Đến trang chủ</a></p>
        </header>
        <main>
          <ol class="feed-page__items">
            <xsl:apply-templates select="rss/channel/item | atom:feed/atom:entry"/>
          </ol>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item">
    <li>
      <h2><a href="{link}"><xsl:value-of select="title"/></a></h2>
      <p class="feed-page__date"><xsl:value-of select="pubDate"/></p>
      <p><xsl:value-of select="description"/></p>
    </li>
  </xsl:template>

  <xsl:template match="atom:entry">
    <xsl:variable name="updated" select="atom:updated"/>
    <li>
      <h2><a href="{atom:link[not(@rel) or @rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h2>
      <p class="feed-page__date">
        <xsl:value-of select="concat(substring($updated, 9, 2), '/', substring($updated, 6, 2), '/',
                                     substring($updated, 1, 4), ' ', substring($updated, 12, 5))"/>
      </p>
      <p><xsl:value-of select="atom:summary"/></p>
    </li>
  </xsl:template>
</xsl:stylesheet>
