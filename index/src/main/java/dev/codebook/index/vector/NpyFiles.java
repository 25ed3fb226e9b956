package dev.codebook.index.vector;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes float matrices in NumPy's {@code .npy} format, so vectors embedded in Python
 * ({@code np.save("x.npy", emb)}) load without conversion.
 *
 * <p>Layout (numpy.lib.format): the magic {@code \x93NUMPY}, a major and minor version byte, the
 * header length (uint16-LE in version 1, uint32-LE in versions 2 and 3), then the header: a
 * Python dict literal such as {@code {'descr': '<f4', 'fortran_order': False, 'shape': (1000,
 * 384), }} padded with spaces and a newline so the data starts on a 64-byte boundary. The data
 * follows with no footer.
 *
 * <p>Read: versions 1 to 3, dtype {@code <f4} or {@code >f4} (and {@code <f8}/{@code >f8},
 * narrowed to float), C order, shape {@code (rows, dim)} or {@code (dim,)} as a single row.
 * Written: version 1.0, {@code <f4}, shape {@code (rows, dim)}.
 */
public final class NpyFiles {

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

  /** Magic, two version bytes and the widest (version 2+) header length field. */
  private static final int PREAMBLE_MAX = MAGIC.length + 2 + 4;

  /** Cap on the header dict: NumPy writes well under 1 KB; a bigger one means a corrupt length. */
  private static final int MAX_HEADER_BYTES = 1 << 20;

  private static final Pattern DESCR =
      Pattern.compile("['\"]descr['\"]\\s*:\\s*['\"]([^'\"]*)['\"]");
  private static final Pattern FORTRAN =
      Pattern.compile("['\"]fortran_order['\"]\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("['\"]shape['\"]\\s*:\\s*\\(([^)]*)\\)");

  private NpyFiles() {}

  /** Reads a 1-D or 2-D float32 (or float64) array in C order. */
  public static FloatMatrix readFloatMatrix(Path file) throws IOException {
    try (FileChannel ch = ChannelReads.open(file)) {
      long size = ch.size();
      if (size == 0) {
        throw new MalformedVectorFileException(file, "empty file");
      }
      ByteBuffer pre = ByteBuffer.allocate((int) Math.min(size, PREAMBLE_MAX))
          .order(ByteOrder.LITTLE_ENDIAN);
      ChannelReads.readFully(ch, pre, 0, file);
      for (int i = 0; i < MAGIC.length; i++) {
        if (i >= pre.limit() || pre.get(i) != MAGIC[i]) {
          throw new MalformedVectorFileException(
              file, "bad magic: not a NumPy .npy file (it does not start with \\x93NUMPY)");
        }
      }
      if (pre.limit() < MAGIC.length + 4) {
        throw new MalformedVectorFileException(file, "truncated header");
      }
      int major = pre.get(6) & 0xFF;
      int minor = pre.get(7) & 0xFF;
      long headerLen;
      int headerStart;
      Charset charset;
      switch (major) {
        case 1 -> {
          headerLen = pre.getShort(8) & 0xFFFF;
          headerStart = 10;
          charset = StandardCharsets.ISO_8859_1;
        }
        case 2, 3 -> {
          if (pre.limit() < 12) {
            throw new MalformedVectorFileException(file, "truncated header");
          }
          headerLen = pre.getInt(8) & 0xFFFFFFFFL;
          headerStart = 12;
          charset = major == 2 ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8;
        }
        default -> throw new MalformedVectorFileException(
            file,
            "unsupported .npy format version " + major + "." + minor + " (expected 1.0 to 3.0)");
      }
      if (headerLen > MAX_HEADER_BYTES || headerStart + headerLen > size) {
        throw new MalformedVectorFileException(
            file, "truncated header: it claims " + headerLen + " bytes, the file has " + size);
      }
      ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
      ChannelReads.readFully(ch, hb, headerStart, file);
      String header = new String(hb.array(), charset);
      Header h = parse(file, header);

      long dataStart = headerStart + headerLen;
      int length = ChannelReads.checkedLength(file, h.rows, h.dim);
      long expected = (long) length * h.itemBytes;
      long available = size - dataStart;
      if (available != expected) {
        throw new MalformedVectorFileException(
            file,
            (available < expected ? "truncated: " : "unexpected trailing bytes: ")
                + "shape " + h.shapeText + " of " + h.descr + " needs " + expected
                + " data bytes, the file has " + available);
      }
      float[] data = new float[length];
      ChannelReads.readFloats(
          ch, dataStart, h.order, h.itemBytes == Double.BYTES, data, 0, length, file);
      return new FloatMatrix((int) h.rows, (int) h.dim, data);
    }
  }

  /** Writes {@code m} as a version 1.0 {@code <f4} array of shape {@code (rows, dim)}. */
  public static void writeFloatMatrix(Path file, FloatMatrix m) throws IOException {
    Objects.requireNonNull(m, "m");
    String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': ("
        + m.rows() + ", " + m.dim() + "), }";
    // Pad with spaces so magic + version + length + dict + '\n' is a multiple of 64, as NumPy does.
    int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
    int pad = (64 - unpadded % 64) % 64;
    String header = dict + " ".repeat(pad) + "\n";
    ByteBuffer pre = ByteBuffer.allocate(10 + header.length()).order(ByteOrder.LITTLE_ENDIAN);
    pre.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
    pre.put(header.getBytes(StandardCharsets.ISO_8859_1)).flip();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      while (pre.hasRemaining()) {
        ch.write(pre);
      }
      ByteBuffer buf = ByteBuffer.allocate(
          (int) Math.max(Float.BYTES, Math.min(m.bytes(), ChannelReads.BUFFER_BYTES)))
          .order(ByteOrder.LITTLE_ENDIAN);
      int perWrite = buf.capacity() / Float.BYTES;
      float[] data = m.data();
      for (int done = 0; done < data.length; done += perWrite) {
        int n = Math.min(perWrite, data.length - done);
        buf.clear();
        buf.asFloatBuffer().put(data, done, n);
        buf.limit(n * Float.BYTES);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
      }
    }
  }

  /** What the header says about the data. */
  private record Header(String descr, ByteOrder order, int itemBytes, long rows, long dim,
      String shapeText) {}

  private static Header parse(Path file, String header) throws MalformedVectorFileException {
    String descr = group(file, header, DESCR, "descr");
    String fortran = group(file, header, FORTRAN, "fortran_order");
    String shapeText = "(" + group(file, header, SHAPE, "shape") + ")";
    ByteOrder order;
    int itemBytes;
    switch (descr) {
      case "<f4" -> { order = ByteOrder.LITTLE_ENDIAN; itemBytes = Float.BYTES; }
      case ">f4" -> { order = ByteOrder.BIG_ENDIAN; itemBytes = Float.BYTES; }
      case "<f8" -> { order = ByteOrder.LITTLE_ENDIAN; itemBytes = Double.BYTES; }
      case ">f8" -> { order = ByteOrder.BIG_ENDIAN; itemBytes = Double.BYTES; }
      default -> throw new MalformedVectorFileException(
          file, "unsupported dtype '" + descr + "': expected float32 ('<f4') or float64 ('<f8')"
              + " (convert with x.astype(np.float32))");
    }
    if (fortran.equals("True")) {
      throw new MalformedVectorFileException(
          file, "fortran_order is True: only C order is supported"
              + " (save np.ascontiguousarray(x) instead)");
    }
    List<Long> shape = new ArrayList<>();
    for (String part : shapeText.substring(1, shapeText.length() - 1).split(",")) {
      String p = part.trim();
      if (p.endsWith("L")) {
        p = p.substring(0, p.length() - 1); // Python 2 long literal, e.g. (1000L, 384L)
      }
      if (!p.isEmpty()) {
        try {
          shape.add(Long.parseLong(p));
        } catch (NumberFormatException e) {
          throw new MalformedVectorFileException(file, "bad shape " + shapeText + " in header", e);
        }
      }
    }
    long rows;
    long dim;
    if (shape.size() == 1) {
      rows = 1;
      dim = shape.get(0);
    } else if (shape.size() == 2) {
      rows = shape.get(0);
      dim = shape.get(1);
    } else {
      throw new MalformedVectorFileException(
          file, "shape " + shapeText + " has " + shape.size()
              + " dimensions: expected a 2-D (rows, dim) array or a 1-D vector");
    }
    if (rows < 0 || dim <= 0) {
      throw new MalformedVectorFileException(
          file, "shape " + shapeText + " has no vector components");
    }
    return new Header(descr, order, itemBytes, rows, dim, shapeText);
  }

  private static String group(Path file, String header, Pattern p, String key)
      throws MalformedVectorFileException {
    Matcher m = p.matcher(header);
    if (!m.find()) {
      throw new MalformedVectorFileException(
          file, "header has no '" + key + "' entry: " + header.strip());
    }
    return m.group(1);
  }
}
