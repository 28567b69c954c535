// The JDK as the reference for what Apache Dubbo writes (single-file source launch:
// `java DubboReference.java <mode>`). Input and output are hex-encoded UTF-8, one item a line.
//   encode      stdin: hex(text)                    -> URLEncoder.encode(text, "UTF-8")
//   provider    stdin: "protocol host port path", then "hex(key) hex(value)" lines
//                                                   -> URL.encode(toFullString()) as Dubbo builds it
//   properties  args: files   -> per file "FILE", then "hex(key) hex(value)" per entry, sorted,
//                                or "ERROR <message>"
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

public class DubboReference {
  static String hex(String s) {
    StringBuilder b = new StringBuilder();
    for (byte x : s.getBytes(StandardCharsets.UTF_8)) b.append(String.format("%02x", x & 0xff));
    return b.toString();
  }

  static String unhex(String h) {
    byte[] out = new byte[h.length() / 2];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
    }
    return new String(out, StandardCharsets.UTF_8);
  }

  public static void main(String[] args) throws Exception {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    switch (args[0]) {
      case "encode": {
        for (String line; (line = in.readLine()) != null; ) {
          System.out.println(URLEncoder.encode(unhex(line), "UTF-8"));
        }
        break;
      }
      case "provider": {
        String[] head = in.readLine().split(" ");
        TreeMap<String, String> params = new TreeMap<>();
        for (String line; (line = in.readLine()) != null; ) {
          if (line.isEmpty()) continue;
          String[] kv = line.split(" ", -1);
          params.put(unhex(kv[0]), unhex(kv[1]));
        }
        // URL.buildString(appendUser=true, appendParameter=true): protocol://host:port/path?k=v&...
        StringBuilder url = new StringBuilder();
        url.append(head[0]).append("://").append(head[1]);
        if (Integer.parseInt(head[2]) > 0) url.append(':').append(head[2]);
        url.append('/').append(head[3]);
        boolean first = true;
        for (Map.Entry<String, String> e : params.entrySet()) {
          url.append(first ? '?' : '&');
          first = false;
          url.append(e.getKey()).append('=').append(e.getValue());
        }
        System.out.println(URLEncoder.encode(url.toString(), "UTF-8"));
        break;
      }
      case "properties": {
        for (int i = 1; i < args.length; i++) {
          System.out.println("FILE");
          Properties p = new Properties();
          try (FileInputStream f = new FileInputStream(args[i])) {
            p.load(f);
          } catch (IllegalArgumentException e) {
            System.out.println("ERROR " + e.getMessage());
            continue;
          }
          TreeMap<String, String> sorted = new TreeMap<>();
          for (String k : p.stringPropertyNames()) sorted.put(k, p.getProperty(k));
          for (Map.Entry<String, String> e : sorted.entrySet()) {
            System.out.println(hex(e.getKey()) + " " + hex(e.getValue()));
          }
        }
        break;
      }
      default:
        throw new IllegalArgumentException("unknown mode " + args[0]);
    }
  }
}
