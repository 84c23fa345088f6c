// The Java reference of bench_mainframe_decode.py: jef4j decoding the same fixed-width
// field bytes, field by field, as a Java migration tool does (one reused CharsetDecoder,
// one String per field).
//
//   java -cp JEF4J_CLASSES:. DecodeFields FILE WIDTH CHARSET WARMUP PASSES [TEXT_OUT]
//
// FILE holds the fields back to back (WIDTH bytes each). WARMUP untimed passes let the JIT
// compile the decoder; then PASSES timed passes. Prints one JSON line: wall and thread-CPU
// seconds per timed pass, the characters decoded and the fields holding U+FFFD. TEXT_OUT:
// the decoded fields, one per line (UTF-8), for the benchmark to compare with mig's.
// Not part of mig: jef4j (Apache-2.0, https://github.com/hidekatsu-izuno/jef4j) is
// measured, never shipped.

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

public final class DecodeFields {
    private static long sink;

    private static String[] decodeAll(CharsetDecoder decoder, byte[] data, int width, CharBuffer out) {
        int fields = data.length / width;
        String[] texts = new String[fields];
        for (int f = 0; f < fields; f++) {
            decoder.reset();
            out.clear();
            decoder.decode(ByteBuffer.wrap(data, f * width, width), out, true);
            decoder.flush(out);
            out.flip();
            texts[f] = out.toString();
        }
        return texts;
    }

    public static void main(String[] args) throws IOException {
        byte[] data = Files.readAllBytes(Path.of(args[0]));
        int width = Integer.parseInt(args[1]);
        Charset charset = new net.arnx.jef4j.Jef4jCharsetProvider().charsetForName(args[2]);
        if (charset == null) {
            throw new IllegalArgumentException("jef4j has no charset " + args[2]);
        }
        int warmup = Integer.parseInt(args[3]);
        int passes = Integer.parseInt(args[4]);
        CharsetDecoder decoder = charset.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
        CharBuffer out = CharBuffer.allocate(width * 4);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int i = 0; i < warmup; i++) {
            sink += decodeAll(decoder, data, width, out).length;
        }
        List<String> wall = new ArrayList<>();
        List<String> cpu = new ArrayList<>();
        String[] texts = null;
        for (int i = 0; i < passes; i++) {
            long cpuStart = threads.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            texts = decodeAll(decoder, data, width, out);
            wall.add(Double.toString((System.nanoTime() - start) / 1e9));
            cpu.add(Double.toString((threads.getCurrentThreadCpuTime() - cpuStart) / 1e9));
        }
        long chars = 0;
        int replaced = 0;
        for (String text : texts) {
            chars += text.length();
            if (text.indexOf('\uFFFD') >= 0) {
                replaced++;
            }
        }
        if (args.length > 5) {
            Files.write(Path.of(args[5]), String.join("\n", texts).getBytes(StandardCharsets.UTF_8));
        }
        System.out.println("{\"seconds\": [" + String.join(", ", wall) + "], \"cpu_seconds\": ["
            + String.join(", ", cpu) + "], \"chars\": " + chars + ", \"fields_with_fffd\": " + replaced
            + ", \"java\": \"" + System.getProperty("java.version") + "\", \"sink\": " + sink + "}");
    }
}
