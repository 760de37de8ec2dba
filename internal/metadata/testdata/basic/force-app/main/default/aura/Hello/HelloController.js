({ init: function(c) {} })
