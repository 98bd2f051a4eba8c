// CSM's file rules (YARA-X), written for this project and tested on inert synthetic samples.
// Each rule's meta names the finding: `check` (what the incidents engine correlates on),
// `severity`, and a one-line `description`.  Extra rules: `scan.files.extra_rules`.

rule webshell_request_eval {
  meta:
    check = "webshell"
    severity = "CRITICAL"
    description = "PHP evaluates or runs what the request sends"
  strings:
    $exec = /\b(eval|assert|system|shell_exec|passthru|exec|popen|proc_open)\s*\(\s*(@\s*)?(stripslashes\s*\(\s*)?\$_(POST|GET|REQUEST|COOKIE|SERVER)\b/ nocase
    $callable = /\$_(POST|GET|REQUEST|COOKIE)\s*\[[^\]]{1,40}\]\s*\(\s*\$_(POST|GET|REQUEST|COOKIE)/ nocase
    $backtick = /`\s*\$_(GET|POST|REQUEST)\s*\[/
  condition:
    any of them
}

rule obfuscated_php_chain {
  meta:
    check = "obfuscated_php"
    severity = "HIGH"
    description = "PHP evaluates a decoded or decompressed blob"
  strings:
    $chain = /\beval\s*\(\s*(gzinflate|gzuncompress|gzdecode|str_rot13|base64_decode|strrev|convert_uudecode)\s*\(/ nocase
    $create = /create_function\s*\(\s*['"][^'"]*['"]\s*,\s*(base64_decode|gzinflate|str_rot13)\s*\(/ nocase
    $preg_e = /preg_replace\s*\(\s*['"]([^'"\\]|\\.){1,80}\/[a-z]*e[a-z]*['"]\s*,/ nocase
    $split_name = /\$\w+\s*=\s*['"]ba['"]\s*\.\s*['"]se64_de['"]\s*\.\s*['"]code['"]/ nocase
  condition:
    any of them
}

rule htaccess_injection {
  meta:
    check = "htaccess_injection"
    severity = "HIGH"
    description = ".htaccess prepends code, runs images as PHP, or redirects search visitors"
  strings:
    $prepend = /php_value\s+auto_(prepend|append)_file/ nocase
    $handler = /(AddHandler|AddType|SetHandler)\s+(application\/x-httpd-php|php[0-9]?-script|x-httpd-php)[^\n]*\.(jpe?g|png|gif|ico|txt)/ nocase
    $referer = /RewriteCond\s+%\{HTTP_REFERER\}\s+[^\n]*(google|bing|yahoo)[^\n]*\n\s*RewriteRule\s+[^\n]*https?:\/\// nocase
  condition:
    any of them
}

rule phishing_kit {
  meta:
    check = "phishing_kit"
    severity = "HIGH"
    description = "A form that mails entered passwords away"
  strings:
    $pass = /\$_POST\s*\[\s*['"](pass|passwd|password|pwd)['"]\s*\]/ nocase
    $mail = /\bmail\s*\(/ nocase
    $brand = /(paypal|apple id|microsoft 365|office ?365|online banking|webmail)/ nocase
  condition:
    $pass and $mail and $brand
}
