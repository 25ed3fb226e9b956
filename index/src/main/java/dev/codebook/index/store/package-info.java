/**
 * The file formats of a collection directory, and nothing that decides when they are written
 * (that is {@link dev.codebook.index.collection}). Every file but the log has Lucene's {@code
 * IndexHeader} (codec, version, id) and a CRC32 footer, and is verified whole before it is read
 * ({@link dev.codebook.index.store.StoreFiles#open}); a bad file fails with {@link
 * org.apache.lucene.index.CorruptIndexException} naming it.
 *
 * <pre>
 * manifest_N              commit point N: schema, segments, log checkpoint (Manifest)
 * codebook_V              trained quantizers, version V (CodebookFile)
 * _S.vec _S.ids [_S.ivf]  segment S: vectors, ids and attributes, codes (SegmentWriter writes
 *                         them, SegmentReader and SegmentVectors read them)
 * _S_G.del                deletions of segment S, generation G (DeletesFile)
 * wal_G.log               write-ahead log generation G (WriteAheadLog, WalRecord)
 * backup_files            in a backup only: its table of contents (BackupFile)
 * write.lock[.holder]     the process that has the directory open (DirectoryLock)
 * </pre>
 *
 * Every format is at version 0; {@code src/test/resources/store/v0} is a collection written by
 * it, opened by {@code StoreFormatCompatibilityTest}.
 *
 * <p><b>Threading.</b> Readers and writers here are stateless or single-use, except {@link
 * dev.codebook.index.store.WriteAheadLog} (appends serialized by its monitor, durability waits
 * concurrent) and {@link dev.codebook.index.store.SegmentVectors} (immutable, shared by readers).
 */
package dev.codebook.index.store;
